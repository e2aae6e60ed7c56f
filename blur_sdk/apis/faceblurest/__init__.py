"""FaceBlurest's Face Blur API: POST /faceblurest.aspx (and /faceblurest), JSON in and out."""
