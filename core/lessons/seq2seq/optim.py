"""Adam whose checkpoint can hold its moments in bfloat16, so a shipped run stays well under 1 MB.

The moments m and v only scale the next updates; bfloat16 keeps their range (v can be 1e-12)
and 3 significant digits. Loading casts them back to the parameters' dtype (torch's
``Optimizer.load_state_dict`` does that for every floating-point state but ``step``). Only the
shipped files are made compact (``compact = True`` in ``pretrain``): a student's ⬇ Checkpoint
keeps float32 moments, so an upload of it continues bit for bit.
"""
from __future__ import annotations

from typing import Any

import torch


class CompactAdam(torch.optim.Adam):
    compact = False

    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        if not self.compact:
            return sd
        small = {k: {n: v.to(torch.bfloat16) if torch.is_tensor(v) and v.is_floating_point() and v.dim() else v
                     for n, v in s.items()} for k, s in sd["state"].items()}
        return {**sd, "state": small}
