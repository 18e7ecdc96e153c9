"""The contract as data: the requirement catalogue (`catalogue`), the platform's constants
(`platform`) and the agent's own declaration (`agent_config`). No Docker, no pytest, no HTTP here:
everything else reads these."""
