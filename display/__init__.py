"""The hall's LED wall and window screens (issue 5): a device, reads only bus/ topics."""
