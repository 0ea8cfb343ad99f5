// scaffolding
