# artifact bucket module (fixture)
