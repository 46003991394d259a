"""The installer behind ``./install``: one command per Pi (docs/install-pi.md).

``./install`` (bash) installs Debian's packages and paihao into /opt/paihao/.venv,
then runs ``python -m paihao.install`` from there, which does the rest.
"""
