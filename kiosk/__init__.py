"""The touchscreen kiosk that issues tickets (issue 3): a device, talks only through bus/."""
