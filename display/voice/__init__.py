"""Spoken calls: an engine turns text into sound (espeak-ng, recorded clips, or a fake
that records the text), the announcer queues them and plays one at a time."""
