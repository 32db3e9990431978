"""Settings of the test project: the database comes from SHOP_DATABASE (a PostgreSQL
URL's parts) or is SQLite."""
import os

SECRET_KEY = "test-only"
INSTALLED_APPS = ["django.contrib.contenttypes", "shop"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if os.environ.get("SHOP_PG_NAME"):
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["SHOP_PG_NAME"], "USER": os.environ.get("SHOP_PG_USER", ""),
        "PASSWORD": os.environ.get("SHOP_PG_PASSWORD", ""),
        "HOST": os.environ.get("SHOP_PG_HOST", ""), "PORT": os.environ.get("SHOP_PG_PORT", ""),
    }}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                             "NAME": os.path.join(os.path.dirname(__file__), "shop.db")}}
