from audiosearch.tools.cli.main import main

main()
