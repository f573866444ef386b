"""One flask-smorest Blueprint per resource (each module exposes ``blp``); thin views."""
