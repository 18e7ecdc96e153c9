import sys

from .samples import main

sys.exit(main())
