"""What a closure closes, as the object of the "close" and "import" rules."""

from __future__ import annotations

from dataclasses import dataclass

from models import Equipment, Establishment


@dataclass(frozen=True)
class ClosureTarget:
    """What a closure closes: an establishment, or one piece of equipment of one."""

    establishment: Establishment | None
    equipment: Equipment | None

    @property
    def owner_id(self) -> int:
        """The establishment whose coordinators manage the closure."""
        if self.equipment is not None:
            return self.equipment.establishment_id
        assert self.establishment is not None
        return self.establishment.id
