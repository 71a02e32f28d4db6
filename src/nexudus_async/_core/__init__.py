"""The hand-kept runtime under the generated layer; it names no entity.

Kept empty on purpose: importing one module here (the generated layer needs
``wire`` and ``transport``) must not load the request pipeline.
"""
