"""The published register: a static MkDocs + Material site built from the register and the report models.

MkDocs renders the few hand-written and report pages (and the theme's chrome); record, service and kind
pages are rendered straight from Jinja2 templates into a copy of that chrome, so 100,000 records build in
minutes rather than hours. See `build.build_site`.
"""
