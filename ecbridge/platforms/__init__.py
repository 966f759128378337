"""Platform integrations: no Django models here. One package per platform behind one registry."""
