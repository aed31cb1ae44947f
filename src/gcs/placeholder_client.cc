namespace moray::gcs {}
