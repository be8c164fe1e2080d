from megatest.cli.entry import main

raise SystemExit(main())
