"""The window call-pad (issue 4): a device, talks only through bus/."""
