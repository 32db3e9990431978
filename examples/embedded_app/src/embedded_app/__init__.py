"""An example application whose database schema ships inside the package."""
