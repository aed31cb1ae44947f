namespace moray::rpc {}
