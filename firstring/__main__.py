from firstring.cli import main

raise SystemExit(main())
