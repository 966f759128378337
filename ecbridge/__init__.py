"""ecbridge: the EC Integrations module of a 3PL warehouse management system."""
