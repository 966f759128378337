"""Business rules for EC accounts. Views, the API and jobs call these; nothing else decides."""
