namespace moray::raylet {}
