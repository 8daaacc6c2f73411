from smsctl.entry import main

main()
