"""The domain: hardware, networks and their JSON format, mapping, schedules, cell levels,
the Gbuffer cover, write slots, errors, plugins (specs and entry points of code of one's
own). Imports nothing else of ``aras``.
"""
