"""One exception root for paihao; each error also inherits the builtin it resembles
(as gpiozero does), so callers can catch what they already understand."""


class PaihaoError(Exception):
    """Base of every error paihao raises on purpose."""


class ConfigError(PaihaoError, ValueError):
    """The hall config file is missing, unreadable or invalid; the message says where."""


class BrokerError(PaihaoError, ConnectionError):
    """The MQTT broker could not be started or reached."""


class BusTimeout(PaihaoError, TimeoutError):
    """A request over the bus got no reply in time."""
