"""The MQTT contract every paihao process shares: topic names, payload rules,
error codes and one client wrapper. Only this package imports paho."""

PROTOCOL_VERSION = "v1"
