"""Rules: units that turn observations into findings. One module per rule, self-registering."""
