"""prodaudit: is this code safe to ship to production?"""

__version__ = "0.1.0"
