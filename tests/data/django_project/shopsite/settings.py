"""Settings of the test project: the database comes from SHOP_PG_* (PostgreSQL) or
SHOP_MY_* (MySQL/MariaDB) variables holding a URL's parts, or is SQLite."""
import os

SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "shop"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _server(prefix, engine):
    return {"default": {
        "ENGINE": engine, "NAME": os.environ[f"{prefix}_NAME"],
        "USER": os.environ.get(f"{prefix}_USER", ""),
        "PASSWORD": os.environ.get(f"{prefix}_PASSWORD", ""),
        "HOST": os.environ.get(f"{prefix}_HOST", ""), "PORT": os.environ.get(f"{prefix}_PORT", ""),
    }}


if os.environ.get("SHOP_PG_NAME"):
    DATABASES = _server("SHOP_PG", "django.db.backends.postgresql")
elif os.environ.get("SHOP_MY_NAME"):
    DATABASES = _server("SHOP_MY", "django.db.backends.mysql")
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                             "NAME": os.path.join(os.path.dirname(__file__), "shop.db")}}
