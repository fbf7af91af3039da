"""Built-in diversity metrics; importing this package registers each of them (one module per metric family)."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
