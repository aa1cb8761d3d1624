"""The rule interface, as the checks know it: `Rule`, `Tick`, `Env`, `Emit` (see `daemon.unit`).

They are defined in `daemon.unit`, below both sources and checks, so that sources can take an
`Env` without importing the checks; this module keeps the name every rule and test imports.
"""

from daemon.unit import Emit as Emit
from daemon.unit import Env as Env
from daemon.unit import Rule as Rule
from daemon.unit import Sources as Sources
from daemon.unit import Tick as Tick
