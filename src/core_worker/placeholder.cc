namespace moray::core {}
