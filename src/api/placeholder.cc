namespace moray::api {}
