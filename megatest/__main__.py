from megatest.cli.entry import run

run()
