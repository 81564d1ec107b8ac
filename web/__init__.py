"""Server-rendered pages (Jinja2), in French by default and in English on request."""
