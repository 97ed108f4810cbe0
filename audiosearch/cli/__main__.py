from audiosearch.cli.main import main

main()
