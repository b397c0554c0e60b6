"""Everything the Lambda needs: upgrade rules, table access, count maintenance, stream handling."""
