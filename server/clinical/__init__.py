"""Pure clinical scoring: NHS number check, falls stratification, PAM level.

No I/O except reading the instrument JSON in ``instruments/`` (see ``instruments.py``);
the PWA runs a JavaScript twin of each module (``pwa/src/clinical``) against the same
data and the same test vectors in ``instruments/vectors``.
"""
