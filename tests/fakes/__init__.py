"""Fakes of the outside services, as real servers on loopback."""
