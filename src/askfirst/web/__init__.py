"""The web layer: a FastAPI app (`askfirst.web.app.create_app`) with a JSON API and pages."""
