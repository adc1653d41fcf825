"""The domain: hardware, networks and their JSON format, mapping, schedules, cell levels,
the Gbuffer cover, write slots, errors. Imports nothing else of ``aras``.
"""
