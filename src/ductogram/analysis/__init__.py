"""Reading a ductogram: the breast, the contrast-filled duct tree, its graph and calibres.

Works on any :class:`ductogram.core.Image`, simulated or real. It never imports the
simulator (``ductogram.anatomy``, ``ductogram.exam``, ``ductogram.imaging``).
"""
