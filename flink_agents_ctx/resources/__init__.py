"""Resources declared by an agent (models, tools, clients): built lazily, once per operator."""
