"""ductogram: ductography (galactography) in software, with exact ground truth.

Layers (imports point down only): ``anatomy`` (breast, lobes, duct trees, lesions),
then the exam, imaging, io, analysis and report layers described in ARCHITECTURE.md.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
