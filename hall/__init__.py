"""The hall controller: the one writer of queue state.

``engine`` decides (pure Python over the store, ``now`` passed in),
``service`` maps MQTT topics to engine calls, ``app`` runs it all.
"""
