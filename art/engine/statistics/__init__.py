"""Style statistics beyond the built-in ones, a file each (art.engine.terms.style_term)."""
