"""Serial devices (GSM modem, LED strips, keypads) to MQTT (issue 6): talks only through bus/."""
