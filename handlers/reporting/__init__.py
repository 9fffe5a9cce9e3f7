"""Reporting: the indicators (:mod:`.indicators`, computed in the database) and their renderings
(:mod:`.report`: terminal tables, CSV files, PNG charts, one HTML page).

It answers no command and runs no tick, so it declares no feature: ``rallybot report``, the
console's indicators page and ``/rallybot stats`` read it through :mod:`.service`.
"""
