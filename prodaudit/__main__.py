from prodaudit.cli import main

raise SystemExit(main())
