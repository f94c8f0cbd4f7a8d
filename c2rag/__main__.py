from c2rag.cli import main

main()
