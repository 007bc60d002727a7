from prodaudit.cli import main

# The guard matters: the LibCST engine's forkserver workers import the main module.
if __name__ == "__main__":
    raise SystemExit(main())
