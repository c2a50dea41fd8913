"""Enterprise technology demands (企业技术需求): post, edit, close, bulk import."""
